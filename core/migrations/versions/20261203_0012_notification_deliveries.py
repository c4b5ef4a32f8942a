"""notifications: one row per (event, recipient, channel) told

Revision ID: 20261203_0012
Revises: 20261203_0011
Create Date: 2026-12-03 16:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0012'
down_revision: str | None = '20261203_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('content_sealed', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_deliveries_key'))
    )


def downgrade() -> None:
    op.drop_table('notification_deliveries')
