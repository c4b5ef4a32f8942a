"""notifications: indexes for the sweeper's purges, failed attempts on restocks

Revision ID: 20261203_0017
Revises: 20261203_0016
Create Date: 2026-12-03 18:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0017'
down_revision: str | None = '20261203_0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) each purge filters on: without an index every sweep scans the table.
INDEXED = (('notification_deliveries', 'created_at'),
           ('notification_link_uses', 'expires_at'),
           ('push_subscriptions', 'gone_at'),
           ('back_in_stock_subscriptions', 'fulfilled_at'))


def upgrade() -> None:
    for table, column in INDEXED:
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column], unique=False)
    with op.batch_alter_table('restocks') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('restocks') as batch:
        batch.drop_column('retry_at')
        batch.drop_column('attempts')
    for table, column in reversed(INDEXED):
        op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
