"""an agent's device: the web phone (webrtc) or a SIP phone (sip)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=10), server_default='webrtc', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('device')
