"""Move the clear-text tokens of ``rest_framework.authtoken`` into knox, then drop their table.

knox finds a token by its first 15 characters (``token_key``) and checks the SHA-512 digest
of the whole key; it does not care about the key's length or alphabet. So an old 40-hex
DRF key, stored as ``token_key = key[:15]`` and ``digest = hash_token(key)``, keeps
authenticating with ``Authorization: Token <key>``: clients need no change. Each migrated
token expires 90 days after this migration and is named "Ancien jeton (migré)", so that HR
sees it and the integrations get a new key before then.

The app is no longer installed, so its table is read with plain SQL, when it exists, and
then dropped (Django leaves the tables of a removed app behind, with every key in clear).
Its content type and permissions go too. Going backwards recreates nothing: the keys are
gone, which is the point.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"
MIGRATED_NAME = "Ancien jeton (migré)"
MIGRATED_DAYS = 90


def migrate_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    ApiToken = apps.get_model("cms", "ApiToken")
    expiry = timezone.now() + timedelta(days=MIGRATED_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    for key, user_id in rows:
        token = AuthToken(
            digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry
        )
        token.save(force_insert=True)
        ApiToken(token=token, name=MIGRATED_NAME).save(force_insert=True)


def forget_the_app(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="authtoken").delete()  # with its permissions


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0004_api_tokens"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(migrate_tokens, migrations.RunPython.noop),
        migrations.RunSQL(f"DROP TABLE IF EXISTS {OLD_TABLE}", migrations.RunSQL.noop),
        migrations.RunPython(forget_the_app, migrations.RunPython.noop),
    ]
