"""notifications: codes texted to prove a number before SMS consent

Revision ID: 20261203_0018
Revises: 20261203_0017
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0018'
down_revision: str | None = '20261203_0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=80), nullable=False),
    sa.Column('phone_sealed', sa.Text(), nullable=False),
    sa.Column('phone_digest', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes'))
    )
    op.create_index(op.f('ix_sms_codes_holder'), 'sms_codes', ['holder'], unique=False)
    op.create_index(op.f('ix_sms_codes_phone_digest'), 'sms_codes', ['phone_digest'],
                    unique=False)
    op.create_index(op.f('ix_sms_codes_expires_at'), 'sms_codes', ['expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sms_codes_expires_at'), table_name='sms_codes')
    op.drop_index(op.f('ix_sms_codes_phone_digest'), table_name='sms_codes')
    op.drop_index(op.f('ix_sms_codes_holder'), table_name='sms_codes')
    op.drop_table('sms_codes')
