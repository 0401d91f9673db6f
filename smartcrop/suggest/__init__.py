"""Suggested crops per aspect ratio: faces first, then saliency, then the centre.

``engine`` is the entry point; ``boxes`` holds the whole-pixel box rules, ``faces``
and ``saliency`` the two detectors, ``fetch`` the download of a source image and
``store`` the rows in ``smartcrop_cropsuggestion`` / ``smartcrop_imagefetch``.
Importing this package loads neither OpenCV nor numpy: import the modules you need.
"""
