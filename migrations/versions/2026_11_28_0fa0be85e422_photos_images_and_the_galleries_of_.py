"""Photos: images (what the pipeline stored of an upload) and the galleries of experiences and stores;
an experience's one cover_image becomes the first photo of its gallery

Upgrade runs each existing cover file (UPLOAD_DIR/<cover_image>, stored as uploaded) through the photo
pipeline (app/media/images.py): the cleaned variants are written next to it and the photo row points at
them. A cover whose file is missing or does not decode is left out, with a warning; the old files stay.
Downgrade gives each experience its cover's widest variant as cover_image (served by the old /uploads
route); the other photos, and store photos, have no place to go back to.

Revision ID: 0fa0be85e422
Revises: 7d3e5a1c9f20
Create Date: 2026-11-28 10:57:44.982817
"""
import logging
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

log = logging.getLogger("alembic.runtime.migration")

revision = '0fa0be85e422'
down_revision = '7d3e5a1c9f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('widths', postgresql.ARRAY(sa.SmallInteger()), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cardinality(widths) >= 1', name=op.f('ck_images_has_variants')),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_images_size_positive')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_images_uploaded_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_images'))
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_digest'), ['digest'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('alt_text', sa.String(length=300), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('num_nonnulls(offering_id, store_id) = 1', name=op.f('ck_photos_one_owner')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_photos_position_not_negative')),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_photos_image_id_images'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_photos_offering_id_offerings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_photos_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_image_id'), ['image_id'], unique=False)
        batch_op.create_index('ix_photos_offering_order', ['offering_id', 'position', 'id'], unique=False)
        batch_op.create_index('ix_photos_store_order', ['store_id', 'position', 'id'], unique=False)

    _covers_into_galleries()
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.drop_column('cover_image')


def _covers_into_galleries():
    from flask import current_app

    from app.errors import ValidationFailed
    from app.media import images

    config = current_app.config
    bind = op.get_bind()
    covers = bind.execute(sa.text(
        "SELECT o.id, o.cover_image, b.owner_id FROM offerings o JOIN stores s ON s.id = o.store_id "
        "JOIN businesses b ON b.id = s.business_id WHERE o.cover_image IS NOT NULL ORDER BY o.id")).all()
    for offering_id, name, owner_id in covers:
        try:
            content = (Path(config["UPLOAD_DIR"]) / Path(name).name).read_bytes()
            processed = images.process(content, max_bytes=max(len(content), 1),
                                       max_pixels=config["MAX_PHOTO_PIXELS"])
            images.write_files(processed, config["UPLOAD_DIR"])
        except (OSError, ValidationFailed) as exc:
            log.warning("the cover %s of experience %s is left out of its gallery: %s", name, offering_id, exc)
            continue
        image_id = bind.execute(sa.text(
            "INSERT INTO images (digest, width, height, widths, uploaded_by_id) "
            "VALUES (:digest, :width, :height, :widths, :owner) RETURNING id"),
            {"digest": processed.digest, "width": processed.width, "height": processed.height,
             "widths": [variant.width for variant in processed.variants], "owner": owner_id}).scalar_one()
        bind.execute(sa.text("INSERT INTO photos (image_id, offering_id, position) VALUES (:image, :offering, 0)"),
                     {"image": image_id, "offering": offering_id})


def downgrade():
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_image', sa.VARCHAR(length=120), autoincrement=False, nullable=True))
    op.execute(
        "UPDATE offerings o SET cover_image = c.digest || '-' || c.widths[cardinality(c.widths)] || '.jpg' "
        "FROM (SELECT DISTINCT ON (p.offering_id) p.offering_id, i.digest, i.widths FROM photos p "
        "JOIN images i ON i.id = p.image_id WHERE p.offering_id IS NOT NULL "
        "ORDER BY p.offering_id, p.position, p.id) c WHERE o.id = c.offering_id")

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_store_order')
        batch_op.drop_index('ix_photos_offering_order')
        batch_op.drop_index(batch_op.f('ix_photos_image_id'))

    op.drop_table('photos')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_digest'))

    op.drop_table('images')
