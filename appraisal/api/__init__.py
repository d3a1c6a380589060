"""Appraisal API of the appraisal app (``/api/v1/``: campaigns and their frozen templates, appraisals, workflow actions, PDF)."""
