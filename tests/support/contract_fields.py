"""The JSON fields the contract gives a programme, an image and a rendition (section
4.1): the legacy frontend reads exactly these names. Tests compare the API's answers
with these sets plus what the project adds, named at each use."""

PROGRAMME_FIELDS = frozenset({"ProgramId", "ProviderName", "ProgramTitle", "Images"})

IMAGE_FIELDS = frozenset(
    {
        "ImageId",
        "ImageUrl",
        "ImageTypeId",
        "ImageType",
        "LanguageId",
        "Language",
        "Width",
        "Height",
        "Status",
        "CurrentState",
        "LockedBy",
        "RejectReasonId",
        "Notes",
        "Renditions",
    }
)

RENDITION_FIELDS = frozenset(
    {
        "AspectRatioId",
        "AspectRatio",
        "X",
        "Y",
        "Width",
        "Height",
        "Url",
        "ImageBase64",
    }
)
