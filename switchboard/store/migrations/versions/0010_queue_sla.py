"""A queue's SLA threshold: the seconds within which its callers should be answered (SLA scoring)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_seconds', sa.Integer(), server_default='20', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('sla_seconds')
