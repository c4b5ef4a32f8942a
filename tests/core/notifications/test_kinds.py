"""Every notice's template has a declared kind (its category and urgency), and every
declared kind a template: a kind without one is never sent, a template without one fails
at send time."""

from core.notifications.kinds import KINDS
from core.notifications.render import TEMPLATES


def test_every_template_has_a_kind_and_every_kind_a_template():
    templates = {path.stem for path in TEMPLATES.glob("*.jinja")}
    assert templates, "no templates found"
    assert templates == set(KINDS), {"templates without a kind": templates - set(KINDS),
                                     "kinds without a template": set(KINDS) - templates}

