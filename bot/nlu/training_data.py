"""Rasa 3 NLU YAML: examples with inline entity annotations, synonyms and lookup tables.

The markup is stripped while loading, so every later stage sees the plain sentence a
shopper would type and entity offsets that point into it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent / "data"
# [text](entity) | [text](entity:value) | [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<short>[^()]*)\)|(?P<json>\{[^{}]*\}))")
_LEFTOVER = re.compile(r"\]\(|\]\{")
_ENTITY_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class TrainingData:
    examples: list[Example]
    synonyms: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Intent names in order of first appearance."""
        return list(dict.fromkeys(e.intent for e in self.examples))

    def vocabulary(self) -> set[str]:
        """Lower-case words of the examples outside entities: how shoppers really talk."""
        words: set[str] = set()
        for example in self.examples:
            text = example.text.lower()
            for e in sorted(example.entities, key=lambda e: e.start, reverse=True):
                text = text[:e.start] + " " + text[e.end:]
            words.update(re.findall(r"[^\W\d_]+", text))
        return words


def parse_annotated(line: str, where: str = "<text>") -> tuple[str, tuple[Entity, ...]]:
    """ "add [two](quantity) [mugs](product:Mug)" -> plain text plus entities with offsets."""
    plain: list[str] = []
    entities: list[Entity] = []
    cursor = length = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor:match.start()]
        _check_plain(before, line, where)
        plain.append(before)
        length += len(before)
        text = match["text"]
        name, value = _annotation_target(match, where)
        entities.append(Entity(name, value if value is not None else text, length,
                               length + len(text)))
        plain.append(text)
        length += len(text)
        cursor = match.end()
    _check_plain(line[cursor:], line, where)
    plain.append(line[cursor:])
    return "".join(plain), tuple(entities)


def _check_plain(segment: str, line: str, where: str) -> None:
    if _LEFTOVER.search(segment):
        raise ValueError(f"{where}: malformed entity annotation in {line!r}")


def _annotation_target(match: re.Match[str], where: str) -> tuple[str, str | None]:
    """The entity name and explicit value (None: the annotated text is the value)."""
    if match["json"] is not None:
        try:
            spec = json.loads(match["json"])
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: bad JSON annotation {match['json']!r}: {error}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
            raise ValueError(f"{where}: annotation {match['json']!r} needs an \"entity\" string")
        name, raw = spec["entity"], spec.get("value")
        value = None if raw is None else str(raw)
    else:
        name, sep, explicit = match["short"].partition(":")
        value = explicit.strip() if sep else None
        if sep and not value:
            raise ValueError(f"{where}: empty value in annotation {match.group(0)!r}")
    name = name.strip()
    if not _ENTITY_NAME.match(name):
        raise ValueError(f"{where}: bad entity name {name!r} in {match.group(0)!r}")
    return name, value


def load_training_data(path: str | Path) -> TrainingData:
    """Read one Rasa NLU YAML file; a ValueError names the file and line of any mistake."""
    path = Path(path)
    return parse_training_data(path.read_text(encoding="utf-8"), source=str(path))


def parse_training_data(text: str, source: str = "<string>") -> TrainingData:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ValueError(f"{source}: not valid YAML: {error}") from None
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    lookups: dict[str, list[str]] = {}
    regexes: dict[str, list[str]] = {}
    if root is None:
        return TrainingData(examples)
    items = _mapping(root, source).get("nlu")
    if items is None:
        return TrainingData(examples)
    if not isinstance(items, yaml.SequenceNode):
        raise ValueError(f"{_at(source, items)}: `nlu` must be a list of items")
    for node in items.value:
        item = _mapping(node, source)
        kinds = [k for k in ("intent", "synonym", "lookup", "regex") if k in item]
        if len(kinds) != 1:
            raise ValueError(f"{_at(source, node)}: an nlu item needs exactly one of "
                             f"intent, synonym, lookup or regex (found {kinds or 'none'})")
        kind, name = kinds[0], _scalar(item[kinds[0]], source)
        if "examples" not in item:
            raise ValueError(f"{_at(source, node)}: {kind} {name!r} has no examples")
        lines = _example_lines(item["examples"], source)
        if kind == "intent":
            for line_no, line in lines:
                plain, entities = parse_annotated(line, f"{source}:{line_no}")
                examples.append(Example(plain, name, entities))
                for e in entities:
                    if e.value != plain[e.start:e.end]:
                        _add_synonym(synonyms, plain[e.start:e.end], e.value, source, line_no)
        elif kind == "synonym":
            for line_no, line in lines:
                _add_synonym(synonyms, line, name, source, line_no)
        else:
            (lookups if kind == "lookup" else regexes).setdefault(name, []).extend(
                line for _, line in lines)
    return TrainingData(examples, synonyms, lookups, regexes)


def _add_synonym(synonyms: dict[str, str], variant: str, canonical: str, source: str,
                 line_no: int) -> None:
    key = variant.strip().lower()
    if synonyms.get(key, canonical) != canonical:
        raise ValueError(f"{source}:{line_no}: synonym {variant!r} maps to both "
                         f"{synonyms[key]!r} and {canonical!r}")
    synonyms[key] = canonical


def _example_lines(node: yaml.Node, source: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of each "- " line of an `examples: |` block."""
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError(f"{_at(source, node)}: examples must be a block of '- ' lines")
    first = node.start_mark.line + (2 if node.style in ("|", ">") else 1)
    lines: list[tuple[int, str]] = []
    for offset, raw in enumerate(node.value.splitlines()):
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("-") or not stripped[1:].strip():
            raise ValueError(f"{source}:{first + offset}: expected '- example', got {raw!r}")
        lines.append((first + offset, stripped[1:].strip()))
    if not lines:
        raise ValueError(f"{_at(source, node)}: examples block is empty")
    return lines


def _mapping(node: yaml.Node, source: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise ValueError(f"{_at(source, node)}: expected a mapping")
    return {_scalar(key, source): value for key, value in node.value}


def _scalar(node: yaml.Node, source: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise ValueError(f"{_at(source, node)}: expected a non-empty name")
    return str(node.value).strip()


def _at(source: str, node: yaml.Node) -> str:
    return f"{source}:{node.start_mark.line + 1}"
