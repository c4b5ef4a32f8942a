"""support conversations: transcripts, ratings, mirrors, saved replies, staff presence

Revision ID: 20261203_0010
Revises: 0009
Create Date: 2026-12-03 12:00:00

A handoff request becomes a conversation a person holds (issue 17): its transcript
(support_messages, text sealed), the shopper's rating, where staff mirror it, who
resolved it, the waiting notices, an email for answers when nobody was online. Saved
replies for the console; when staff last acted (presence).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '20261203_0010'
down_revision: str | None = '0009'   # the file 20261203_0009_sign_in_limits.py
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mirror_key', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rating_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('waiting_notice_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('offline', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('contact_email', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handoff_requests_resolved_by_id_users'),
                                    'users', ['resolved_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_handoff_requests_mirror_key'), ['mirror_key'],
                              unique=False)
        batch_op.create_index('ix_handoff_requests_chat_key_status', ['chat_key', 'status'],
                              unique=False)

    op.create_table('support_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('shopper', 'bot', 'agent', 'note', 'system', name='author',
                                native_enum=False, length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.Enum('chat', 'console', 'mirror', name='origin',
                                native_enum=False, length=16), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('context', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoff_requests.id'],
                            name=op.f('fk_support_messages_handoff_id_handoff_requests'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'],
                            name=op.f('fk_support_messages_staff_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_messages'))
    )
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.create_index('ix_support_messages_handoff_id_id', ['handoff_id', 'id'],
                              unique=False)

    op.create_table('support_saved_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_support_saved_replies_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_saved_replies'))
    )

    op.create_table('support_staff_presence',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_support_staff_presence_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_support_staff_presence'))
    )


def downgrade() -> None:
    op.drop_table('support_staff_presence')
    op.drop_table('support_saved_replies')
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_support_messages_handoff_id_id')
    op.drop_table('support_messages')
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_requests_chat_key_status')
        batch_op.drop_index(batch_op.f('ix_handoff_requests_mirror_key'))
        batch_op.drop_constraint(batch_op.f('fk_handoff_requests_resolved_by_id_users'),
                                 type_='foreignkey')
        for column in ('escalated_at', 'contact_email', 'offline', 'waiting_notice_at',
                       'rated_at', 'rating_comment', 'rating', 'mirror_key',
                       'resolved_by_id', 'close_reason', 'taken_at'):
            batch_op.drop_column(column)
