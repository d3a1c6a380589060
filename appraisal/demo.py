def seed_appraisal(context):
    pass
