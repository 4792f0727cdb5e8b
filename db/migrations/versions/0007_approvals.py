"""approvals: the review of rendered messages and who decided on it

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("occurrence", sa.String(length=200), nullable=False),
        sa.Column("flow_run_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data_digest", sa.String(length=64), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("requested_dt", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_dt", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_at_dt", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scheduled_run_id", sa.String(length=36), nullable=True),
        sa.Column("decided_dt", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("sent_dt", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "decision IN ('pending', 'approved', 'rejected', 'expired', 'superseded')",
            name=op.f("ck_approval_decision"),
        ),
        sa.CheckConstraint("mode IN ('record', 'pause', 'suspend')", name=op.f("ck_approval_mode")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_approval_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval")),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_flow_run_id"), ["flow_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_flow_run_id"))
        batch_op.drop_index(batch_op.f("ix_approval_event_id"))
    op.drop_table("approval")
