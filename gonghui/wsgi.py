import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghui.settings")
application = get_wsgi_application()

# Management commands run the system checks; a WSGI server does not: refuse here a weak
# secret in production and keys that cannot read the stored data.
from gonghui.common.keycheck import refuse_to_start  # noqa: E402

refuse_to_start()
