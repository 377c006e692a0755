"""a caller's name is kept whole: any length the trunk sends

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_history', schema=None) as batch_op:
        batch_op.alter_column('caller_name', existing_type=sa.String(length=200), type_=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('call_history', schema=None) as batch_op:
        batch_op.alter_column('caller_name', existing_type=sa.Text(), type_=sa.String(length=200),
                              existing_nullable=False)
