"""access reviews: periodic reviews of who holds which role, one item per (user, role)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('opened_ms', sa.BigInteger(), nullable=False),
    sa.Column('due_ms', sa.BigInteger(), nullable=False),
    sa.Column('closed_by', sa.String(length=40), nullable=True),
    sa.Column('closed_ms', sa.BigInteger(), nullable=True),
    sa.Column('close_reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_reviews_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_reviews_opened_ms'), ['opened_ms'], unique=False)

    op.create_table('access_review_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('granted_ms', sa.BigInteger(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['review_id'], ['access_reviews.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('review_id', 'user_id', 'role', name='uq_access_review_item')
    )
    with op.batch_alter_table('access_review_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_review_items_review_id'), ['review_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_review_items_review_id'))
    op.drop_table('access_review_items')
    with op.batch_alter_table('access_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_reviews_opened_ms'))
        batch_op.drop_index(batch_op.f('ix_access_reviews_status'))
    op.drop_table('access_reviews')
