"""Content packages: SCORM 1.2 and SCORM 2004 (cmi5 next) as course steps.

- ``manifest``: reads ``imsmanifest.xml`` (defusedxml: no external entities) into the
  standard, the organisation tree and the launchables;
- ``archive``: checks a zip before anything is written (zip-slip, symlinks, entry count,
  uncompressed size, compression ratio) and extracts it to content-addressed private
  storage;
- ``importer``: the one service that turns an uploaded zip into a ``Package`` and a
  ``PackageStepPage`` (admin upload, ``manage.py import_package``, the import task);
- ``runtime``: CMI data from the player's commits (merge, sequence numbers, time), the
  mapping of SCORM statuses and scores, and the rollup of SCOs onto the attempt;
- ``sample``: small generated packages whose pages call the SCORM API as an authoring
  tool's output does (demo, tests, benches).

Models live in learning/models.py (``Package``, ``PackageStepPage``, ``PackageAttempt``,
``PackageImport``); state changes in learning/actions.py.
"""
