from django.shortcuts import render

from ebourgogne.core.access import public


@public(reason="the regional portal's home page")
def home(request):
    return render(request, "portal/home.html")
