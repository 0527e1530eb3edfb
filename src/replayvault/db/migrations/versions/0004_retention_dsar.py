"""retention, legal holds, deletion certificates, DSAR requests and erasure tombstones

Sessions get their data subject's digest, their retention period and expiry (computed lazily for
sessions recorded before this revision: ``retention_sha256`` NULL means "not computed yet") and the
time they were crypto-shredded (the row then stays as a tombstone without data).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('legal_holds',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('placed_by', sa.String(length=40), nullable=False),
    sa.Column('placed_ms', sa.BigInteger(), nullable=False),
    sa.Column('released_by', sa.String(length=40), nullable=True),
    sa.Column('release_reason', sa.String(length=200), nullable=True),
    sa.Column('released_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_session_id'), ['session_id'], unique=False)

    op.create_table('deletion_certificates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('stored_bytes', sa.BigInteger(), nullable=False),
    sa.Column('analytics_rows', sa.Integer(), nullable=False),
    sa.Column('checkpoint_size', sa.BigInteger(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deletion_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deletion_certificates_created_ms'), ['created_ms'], unique=False)

    op.create_table('dsar_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('due_ms', sa.BigInteger(), nullable=False),
    sa.Column('completed_by', sa.String(length=40), nullable=True),
    sa.Column('completed_ms', sa.BigInteger(), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=True),
    sa.Column('certificate_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dsar_requests_subject_digest'), ['subject_digest'], unique=False)

    op.create_table('erasure_tombstones',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('subject_digest', sa.String(length=64), nullable=False),
    sa.Column('erased_ms', sa.BigInteger(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('session_ids', sa.JSON(), nullable=False),
    sa.Column('held_session_ids', sa.JSON(), nullable=False),
    sa.Column('certificate_id', sa.String(length=32), nullable=True),
    sa.Column('audit_idx', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_tombstones_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_tombstones_subject_digest'), ['subject_digest'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retention_category', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('retention_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expires_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('shredded_ms', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sessions_subject_digest'), ['subject_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_expires_ms'), ['expires_ms'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_expires_ms'))
        batch_op.drop_index(batch_op.f('ix_sessions_subject_digest'))
        for column in ('shredded_ms', 'expires_ms', 'retention_sha256', 'retention_category', 'retention_days',
                       'subject_digest'):
            batch_op.drop_column(column)

    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_tombstones_subject_digest'))
        batch_op.drop_index(batch_op.f('ix_erasure_tombstones_request_id'))
    op.drop_table('erasure_tombstones')
    with op.batch_alter_table('dsar_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dsar_requests_subject_digest'))
    op.drop_table('dsar_requests')
    with op.batch_alter_table('deletion_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deletion_certificates_created_ms'))
    op.drop_table('deletion_certificates')
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_session_id'))
    op.drop_table('legal_holds')
