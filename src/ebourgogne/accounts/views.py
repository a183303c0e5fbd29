from django.shortcuts import render

from ebourgogne.core.access import authenticated
from ebourgogne.organisations.selectors import organisations_of


@authenticated
def home(request):
    return render(request, "accounts/home.html", {"organisations": organisations_of(user=request.user)})
