"""URLs under `ebourgogne bench` (EBOURGOGNE_BENCH=1): every real URL, plus a bare Django view.

The bare view is the benchmark's reference: the same server, the same middleware, no template and no
query. Pages are measured as a ratio to it (bench/pages.py).
"""

from django.http import HttpResponse
from django.urls import path

from ebourgogne import urls as platform_urls
from ebourgogne.core.access import public

handler400 = platform_urls.handler400
handler403 = platform_urls.handler403
handler404 = platform_urls.handler404
handler500 = platform_urls.handler500


@public(reason="benchmark reference view: a few fixed bytes, no data; exists only with EBOURGOGNE_BENCH=1")
def bare(request):
    return HttpResponse(b"ok\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path("bench/bare", bare, name="bench_bare"), *platform_urls.urlpatterns]
