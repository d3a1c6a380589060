"""Appraisal API of the appraisal app (``/api/v1/``: campaigns, appraisals, workflow actions, PDF)."""
