"""nudges: back-in-stock subscriptions and restocks, cart reminders, batched staff alerts

Revision ID: 20261203_0016
Revises: 20261203_0015
Create Date: 2026-12-03 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0016'
down_revision: str | None = '20261203_0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('back_in_stock_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=80), nullable=False),
    sa.Column('chat_key', sa.String(length=160), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restock_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_back_in_stock_subscriptions_product_id_products'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_back_in_stock_subscriptions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_back_in_stock_subscriptions')),
    sa.UniqueConstraint('product_id', 'holder',
                        name=op.f('uq_back_in_stock_subscriptions_product_id'))
    )
    op.create_index('ix_back_in_stock_waiting', 'back_in_stock_subscriptions',
                    ['product_id', 'fulfilled_at'], unique=False)
    op.create_table('restocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_restocks_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restocks'))
    )
    op.create_index(op.f('ix_restocks_done_at'), 'restocks', ['done_at'], unique=False)
    op.create_table('cart_reminders',
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('episode_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'],
                            name=op.f('fk_cart_reminders_cart_id_carts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cart_id', name=op.f('pk_cart_reminders'))
    )
    op.create_table('staff_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_alerts'))
    )
    op.create_index(op.f('ix_staff_alerts_sent_at'), 'staff_alerts', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_alerts_sent_at'), table_name='staff_alerts')
    op.drop_table('staff_alerts')
    op.drop_table('cart_reminders')
    op.drop_index(op.f('ix_restocks_done_at'), table_name='restocks')
    op.drop_table('restocks')
    op.drop_index('ix_back_in_stock_waiting', table_name='back_in_stock_subscriptions')
    op.drop_table('back_in_stock_subscriptions')
