import logging

from bot import logs


def test_log_lines_are_event_and_fields_and_hide_passwords(caplog):
    record = logging.LogRecord("chatcart", logging.INFO, __file__, 1, "server.start", None, None)
    record.fields = {"database": logs.safe_url("postgresql+asyncpg://shop:s3cret@db/shop"),
                     "note": "two words"}
    line = logs.KeyValueFormatter().format(record)
    assert line.endswith('INFO chatcart server.start '
                         'database=postgresql+asyncpg://shop:***@db/shop note="two words"')
    assert "s3cret" not in line


def test_a_value_with_newlines_quotes_and_a_megabyte_stays_one_bounded_line():
    forged = '\n2026-12-03T09:00:00 INFO chatcart payment.event outcome=paid "x"\\'
    record = logging.LogRecord("chatcart", logging.INFO, __file__, 1, "slack.refused\nforged",
                               None, None)
    record.fields = {"body": forged + "x" * 1_000_000, "note": "a\u2028b"}
    line = logs.KeyValueFormatter().format(record)
    assert "\n" not in line and "\u2028" not in line and len(line) < 1000
    assert 'body="\\n2026-12-03T09:00:00 INFO chatcart payment.event outcome=paid \\"x\\"\\\\' \
        in line
    assert line.endswith(f'...(+{len(forged) + 1_000_000 - 300} chars)" note="a\\u2028b"')
