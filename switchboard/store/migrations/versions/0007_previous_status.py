"""the status an agent had before a timed one, which it returns to when the time runs out

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_status_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('previous_kind', sa.String(length=20), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.drop_column('previous_kind')
        batch_op.drop_column('previous_status_id')
