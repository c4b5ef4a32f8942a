"""notifications: the signed preference links already used

Revision ID: 20261203_0014
Revises: 20261203_0013
Create Date: 2026-12-03 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0014'
down_revision: str | None = '20261203_0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_link_uses',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_notification_link_uses'))
    )


def downgrade() -> None:
    op.drop_table('notification_link_uses')
