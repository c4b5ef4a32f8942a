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
