"""Suggested crops per aspect ratio: faces first, then saliency, then the centre.

Public, by module: ``engine`` (``suggest``, ``suggest_crops``, ``suggest_from_bytes``:
the entry points), ``files`` (``suggest_files``: a run's files, for the Dagster
asset), ``service`` (``analyse_items``: fetch and analyse several at a time),
``fetch`` (``fetch_image``: one bounded download of a source image), ``store``
(the rows in ``smartcrop_cropsuggestion`` / ``smartcrop_imagefetch``); ``boxes``
holds the whole-pixel box rules, ``faces`` and ``saliency`` the two detectors.

Importing this package loads neither OpenCV nor numpy, so it imports nothing: import
the modules you need.
"""

__all__ = ["boxes", "engine", "faces", "fetch", "files", "saliency", "service", "store"]
