import django
from django.http import HttpResponse

from .models import Visit


def index(request):
    # Every request writes a row: the database must be writable by the
    # user the server runs as.
    Visit.objects.create(path=request.path)
    return HttpResponse(
        f"hello from django {django.VERSION[0]}.{django.VERSION[1]}, visits: {Visit.objects.count()}\n",
        content_type="text/plain",
    )
