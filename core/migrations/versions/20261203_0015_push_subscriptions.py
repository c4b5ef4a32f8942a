"""notifications: web push subscriptions of web chat sessions

Revision ID: 20261203_0015
Revises: 20261203_0014
Create Date: 2026-12-03 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0015'
down_revision: str | None = '20261203_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_key', sa.String(length=80), nullable=False),
    sa.Column('endpoint_digest', sa.String(length=40), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gone_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint_digest', name=op.f('uq_push_subscriptions_endpoint_digest'))
    )
    op.create_index(op.f('ix_push_subscriptions_chat_key'), 'push_subscriptions',
                    ['chat_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_push_subscriptions_chat_key'), table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
