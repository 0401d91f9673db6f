"""Seeded rows, reporting views and functions, and the append-only audit guard.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The seeds are written out here rather than imported from ``smartcrop.lookups`` so that
this migration keeps meaning what it meant when it ran; a test checks that both
agree.
Views and functions are named as the legacy reports know them; unquoted, so PostgreSQL
folds them to lower case and both ``vwProgramImage`` and ``vwprogramimage`` reach them.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEEDS = """
INSERT INTO smartcrop_imagetype_lookup (id, title) VALUES
  (1, 'Poster'), (2, 'Banner'), (3, 'Backdrop'), (4, 'Episodic Still'),
  (5, 'Logo'), (6, 'Cast');
INSERT INTO smartcrop_imagelanguage_lookup (id, title) VALUES
  (1, 'English'), (2, 'Spanish'), (3, 'French'), (4, 'German'), (5, 'Portuguese'),
  (6, 'Italian'), (7, 'Japanese'), (8, 'No Language');
INSERT INTO smartcrop_rejectreason_lookup (id, reason) VALUES
  (1, 'Low resolution'), (2, 'Watermark or text overlay'), (3, 'Wrong programme'),
  (4, 'Inappropriate content'), (5, 'Broken image link'), (6, 'Duplicate image'),
  (7, 'Other');
INSERT INTO smartcrop_aspectratio_lookup (id, title, ratiowidth, ratioheight) VALUES
  (1, '16x9', 16, 9), (2, '4x3', 4, 3), (3, '3x4', 3, 4), (4, '2x3', 2, 3),
  (5, '1x1', 1, 1);
INSERT INTO smartcrop_role (rolename, status, isbuiltin) VALUES
  ('admin', 1, true), ('operator', 1, true), ('qa', 1, true);
INSERT INTO smartcrop_settings (id, qcdisabled) VALUES (1, false);
"""

AUDIT_GUARD = """
CREATE FUNCTION smartcrop_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'smartcrop_programimage_audit is append-only';
END $$;
CREATE TRIGGER smartcrop_programimage_audit_append_only
  BEFORE UPDATE OR DELETE ON smartcrop_programimage_audit
  FOR EACH ROW EXECUTE FUNCTION smartcrop_audit_append_only();
"""

VIEWS = """
CREATE VIEW view_smartcrop_total AS
SELECT count(*)::int AS totalimages,
       count(*) FILTER (WHERE status = 1)::int AS pendingoperator,
       count(*) FILTER (WHERE status = 2)::int AS pendingqa,
       count(*) FILTER (WHERE status = 3)::int AS completed,
       count(*) FILTER (WHERE status = 4)::int AS rejected,
       count(*) FILTER (WHERE currentstate = 1)::int AS locked,
       count(*) FILTER (WHERE status = 3 AND outputfilename IS NOT NULL)::int
         AS exported
FROM smartcrop_programimage;

CREATE VIEW view_smartcrop_providerlist_total AS
SELECT providername,
       count(*)::int AS totalimages,
       count(*) FILTER (WHERE status = 1)::int AS pendingoperator,
       count(*) FILTER (WHERE status = 2)::int AS pendingqa,
       count(*) FILTER (WHERE status = 3)::int AS completed,
       count(*) FILTER (WHERE status = 4)::int AS rejected
FROM smartcrop_programimage
GROUP BY providername;

CREATE VIEW vwProgramImage AS
SELECT p.id AS imageid,
       p.link_object_id AS programid,
       p.providername,
       p.programtitle,
       p.episodetitle,
       p.season,
       p.episode,
       p.imageurl,
       p.imagetypeid,
       coalesce(t.title, p.imagetype) AS imagetype,
       p.languageid,
       coalesce(l.title, p.language) AS language,
       p.width,
       p.height,
       p.rights,
       p.notes,
       p.status,
       p.currentstate,
       p.lockedby,
       p.lockedat,
       p.rejectreasonid,
       r.reason AS rejectreason,
       p.croppedby,
       cu.username AS croppedbyname,
       p.croppedat,
       p.reviewedby,
       ru.username AS reviewedbyname,
       p.reviewedat,
       p.completedby,
       du.username AS completedbyname,
       p.completedat,
       p.outputfilename,
       p.exportedat,
       f.filename AS sourcefilename,
       p.createdat,
       p.updatedat
FROM smartcrop_programimage p
LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
LEFT JOIN smartcrop_rejectreason_lookup r ON r.id = p.rejectreasonid
LEFT JOIN smartcrop_user cu ON cu.id = p.croppedby
LEFT JOIN smartcrop_user ru ON ru.id = p.reviewedby
LEFT JOIN smartcrop_user du ON du.id = p.completedby
LEFT JOIN smartcrop_upload_files f ON f.id = p.uploadfileid;

CREATE VIEW vwAspectRatioImages AS
SELECT a.id AS renditionid,
       a.programimageid AS imageid,
       a.link_object_id AS programid,
       p.providername,
       p.programtitle,
       a.aspectratioid,
       ar.title AS aspectratio,
       a.cropx,
       a.cropy,
       a.cropwidth,
       a.cropheight,
       a.imageurl AS renditionurl,
       a.storagekey,
       p.imageurl AS sourceimageurl,
       p.status,
       a.createdby,
       cu.username AS createdbyname,
       a.createdat,
       a.updatedby,
       uu.username AS updatedbyname,
       a.updatedat,
       p.outputfilename
FROM smartcrop_aspectratioimages a
JOIN smartcrop_programimage p ON p.id = a.programimageid
JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
LEFT JOIN smartcrop_user cu ON cu.id = a.createdby
LEFT JOIN smartcrop_user uu ON uu.id = a.updatedby;
"""

FUNCTIONS = """
-- The cropped-image report: renditions last saved between two UTC dates (inclusive),
-- optionally for one provider and one user (who cropped or reviewed the image).
CREATE FUNCTION fncroppedimagereports(
    p_fromdate date, p_todate date, p_providername text, p_userid integer)
RETURNS TABLE (
    programid varchar, providername varchar, programtitle text, imageid bigint,
    aspectratioid smallint, aspectratio varchar, status smallint,
    croppedby varchar, croppedat timestamptz, reviewedby varchar,
    reviewedat timestamptz, outputfilename varchar, renditionid bigint,
    savedat timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT p.link_object_id, p.providername, p.programtitle, p.id,
         a.aspectratioid, ar.title, p.status,
         cu.username, p.croppedat, ru.username, p.reviewedat, p.outputfilename,
         a.id, a.updatedat
  FROM smartcrop_aspectratioimages a
  JOIN smartcrop_programimage p ON p.id = a.programimageid
  JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
  LEFT JOIN smartcrop_user cu ON cu.id = p.croppedby
  LEFT JOIN smartcrop_user ru ON ru.id = p.reviewedby
  WHERE (p_fromdate IS NULL
         OR a.updatedat >= (p_fromdate::timestamp AT TIME ZONE 'UTC'))
    AND (p_todate IS NULL
         OR a.updatedat < ((p_todate + 1)::timestamp AT TIME ZONE 'UTC'))
    AND (p_providername IS NULL OR lower(p.providername) = lower(p_providername))
    AND (p_userid IS NULL OR p.croppedby = p_userid OR p.reviewedby = p_userid)
  ORDER BY a.updatedat, p.link_object_id, p.id, a.aspectratioid
$$;

-- Per provider and UTC day over the last p_days days (today included).
CREATE FUNCTION smartcrop_reports(p_days integer)
RETURNS TABLE (
    reportdate date, providername varchar, ingested integer, cropped integer,
    approved integer, rejected integer, exported integer)
LANGUAGE sql STABLE AS $$
  WITH bounds AS (
    SELECT ((now() AT TIME ZONE 'UTC')::date - (greatest(p_days, 1) - 1)) AS firstday
  ), events AS (
    SELECT (p.createdat AT TIME ZONE 'UTC')::date AS day, p.providername,
           'ingested' AS kind
    FROM smartcrop_programimage p
    UNION ALL
    SELECT (au.createdat AT TIME ZONE 'UTC')::date, p.providername,
           CASE WHEN au.tostatus = 4 THEN 'rejected'
                WHEN au.fromstatus = 1 AND au.tostatus IN (2, 3) THEN 'cropped'
                WHEN au.fromstatus = 2 AND au.tostatus = 3 THEN 'approved'
           END
    FROM smartcrop_programimage_audit au
    JOIN smartcrop_programimage p ON p.id = au.programimageid
    WHERE au.tostatus = 4
       OR (au.fromstatus = 1 AND au.tostatus IN (2, 3))
       OR (au.fromstatus = 2 AND au.tostatus = 3)
    UNION ALL
    SELECT (p.exportedat AT TIME ZONE 'UTC')::date, p.providername, 'exported'
    FROM smartcrop_programimage p
    WHERE p.exportedat IS NOT NULL
  )
  SELECT e.day, e.providername,
         count(*) FILTER (WHERE e.kind = 'ingested')::int,
         count(*) FILTER (WHERE e.kind = 'cropped')::int,
         count(*) FILTER (WHERE e.kind = 'approved')::int,
         count(*) FILTER (WHERE e.kind = 'rejected')::int,
         count(*) FILTER (WHERE e.kind = 'exported')::int
  FROM events e, bounds b
  WHERE e.day >= b.firstday
  GROUP BY e.day, e.providername
  ORDER BY e.day, e.providername
$$;

-- Every audit row of the last p_days days (today included), oldest first.
CREATE FUNCTION programimage_audit_reports(p_days integer)
RETURNS TABLE (
    auditid bigint, imageid bigint, programid varchar, providername varchar,
    userid integer, username varchar, action varchar, fromstatus smallint,
    fromstate smallint, tostatus smallint, tostate smallint,
    rejectreasonid smallint, rejectreason varchar, createdat timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT au.id, au.programimageid, au.link_object_id, p.providername,
         au.userid, u.username, au.action, au.fromstatus, au.fromstate,
         au.tostatus, au.tostate, au.rejectreasonid, r.reason, au.createdat
  FROM smartcrop_programimage_audit au
  LEFT JOIN smartcrop_programimage p ON p.id = au.programimageid
  LEFT JOIN smartcrop_user u ON u.id = au.userid
  LEFT JOIN smartcrop_rejectreason_lookup r ON r.id = au.rejectreasonid
  WHERE (au.createdat AT TIME ZONE 'UTC')::date
        >= (now() AT TIME ZONE 'UTC')::date - (greatest(p_days, 1) - 1)
  ORDER BY au.createdat, au.id
$$;
"""


def upgrade() -> None:
    op.execute(SEEDS)
    op.execute(AUDIT_GUARD)
    op.execute(VIEWS)
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute("DROP FUNCTION programimage_audit_reports(integer)")
    op.execute("DROP FUNCTION smartcrop_reports(integer)")
    op.execute("DROP FUNCTION fncroppedimagereports(date, date, text, integer)")
    op.execute("DROP VIEW vwAspectRatioImages")
    op.execute("DROP VIEW vwProgramImage")
    op.execute("DROP VIEW view_smartcrop_providerlist_total")
    op.execute("DROP VIEW view_smartcrop_total")
    op.execute(
        "DROP TRIGGER smartcrop_programimage_audit_append_only "
        "ON smartcrop_programimage_audit"
    )
    op.execute("DROP FUNCTION smartcrop_audit_append_only()")
    # Seeded rows go with their tables in 0001's downgrade.
