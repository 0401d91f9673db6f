"""The known export scenario: work items and renditions, and the manifest they make.

Inserted straight into the database; the expected CSV is written out by hand so the
manifest's bytes (quoting, CRLF, order, CDN rewrite, lookups) are compared exactly.
"""

from __future__ import annotations

from tests.support.export_setup import add_image, add_user, utc

NOW = utc(2026, 11, 26, 2, 0, 0)
NAME = "SmartCrop_Manifest_20261126_020000.csv"

EXPECTED = (
    "ProgramId,ProviderName,ProgramTitle,ImageId,ImageType,Language,AspectRatio,"
    "CropX,CropY,CropWidth,CropHeight,RenditionUrl,SourceImageUrl,CompletedBy,"
    "CompletedAt\r\n"
    'EP012345670012,TMDB,"Café one\nLine two",201,Banner,English,16x9,0,0,1600,900,'
    "https://cdn.example.com/renditions/TMDB/EP012345670012/201/16x9.png,"
    "https://image.tmdb.org/t/p/original/abc.jpg,Quinn Reviewer,"
    "2026-11-24T23:59:59Z\r\n"
    'SH012345670000,NBCU,"Night Court, ""Revival""",101,Poster,English,16x9,'
    "1,2,1600,900,https://cdn.example.com/renditions/NBCU/SH012345670000/101/16x9.png,"
    "https://cdn.example.com/sources/SH012345670000/101.jpg,Quinn Reviewer,"
    "2026-11-25T10:00:00Z\r\n"
    'SH012345670000,NBCU,"Night Court, ""Revival""",101,Poster,English,1x1,'
    "2,4,100,100,https://cdn.example.com/renditions/NBCU/SH012345670000/101/1x1.png,"
    "https://cdn.example.com/sources/SH012345670000/101.jpg,Quinn Reviewer,"
    "2026-11-25T10:00:00Z\r\n"
    'SH012345670000,NBCU,"Night Court, ""Revival""",101,Poster,English,2x3,'
    "0,0,200,300,https://cdn.example.com/renditions/NBCU/SH012345670000/101/2x3.png,"
    "https://cdn.example.com/sources/SH012345670000/101.jpg,Quinn Reviewer,"
    "2026-11-25T10:00:00Z\r\n"
    'SH012345670000,NBCU,"Night Court, ""Revival""",102,Poster,Klingon,16x9,'
    "0,0,1600,900,https://cdn.example.com/renditions/NBCU/SH012345670000/102/16x9.png,"
    "https://cdn.example.com/sources/SH012345670000/102.jpg,Olive Operator,"
    "2026-11-25T11:30:00Z\r\n"
    'SH012345670000,NBCU,"Night Court, ""Revival""",102,Poster,Klingon,4x3,'
    "1,2,400,300,https://cdn.example.com/renditions/NBCU/SH012345670000/102/4x3.png,"
    "https://cdn.example.com/sources/SH012345670000/102.jpg,Olive Operator,"
    "2026-11-25T11:30:00Z\r\n"
)
EXPORTED = {101, 102, 201}


def scenario(db_url: str) -> dict[str, int]:
    """Completed images to export, and rows the manifest must leave out."""
    olive = add_user(db_url, "Olive Operator")
    quinn = add_user(db_url, "Quinn Reviewer", "qa")
    title = 'Night Court, "Revival"'
    add_image(
        db_url,
        image_id=101,
        program_id="SH012345670000",
        title=title,
        cropped_by=olive,
        completed_by=quinn,
        completed_at=utc(2026, 11, 25, 10, 0, 0),
        ratios=("2x3", "16x9", "1x1"),
    )
    # Image type only as provider text: resolved from the lookup before export.
    # Language unknown to the lookup: exported as the provider wrote it.
    add_image(
        db_url,
        image_id=102,
        program_id="SH012345670000",
        title=title,
        image_type="key art",
        image_type_id=None,
        language="Klingon",
        language_id=None,
        cropped_by=olive,
        completed_by=olive,
        completed_at=utc(2026, 11, 25, 11, 30, 0),
        ratios=("16x9", "4x3"),
    )
    add_image(
        db_url,
        image_id=201,
        program_id="EP012345670012",
        provider="TMDB",
        title="Café one\nLine two",
        image_url="https://image.tmdb.org/t/p/original/abc.jpg",
        image_type="Banner",
        image_type_id=2,
        cropped_by=olive,
        completed_by=quinn,
        completed_at=utc(2026, 11, 24, 23, 59, 59),
        ratios=("16x9",),
    )
    # Left out: in QA, already exported, rejected, in the operator queue.
    add_image(
        db_url, image_id=301, program_id="MV000987650000", status=2, cropped_by=olive
    )
    add_image(
        db_url,
        image_id=401,
        program_id="SH099999990000",
        completed_by=quinn,
        completed_at=utc(2026, 11, 19, 9, 0, 0),
        output_file="SmartCrop_Manifest_20261120_020000.csv",
    )
    add_image(db_url, image_id=501, program_id="SH055555550000", status=4)
    add_image(db_url, image_id=601, program_id="SH066666660000", status=1, ratios=())
    return {"olive": olive, "quinn": quinn}
