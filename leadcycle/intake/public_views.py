"""The hosted form page ``/f/<slug>``: a plain HTML form that works without JavaScript."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leadcycle.intake.public import body_too_large, client_ip, over_rate_limit
from leadcycle.intake.selectors import form_by_slug
from leadcycle.intake.services import HONEYPOT_FIELD, SubmissionRejected, form_submit
from leadcycle.intake.visitors import anonymous_visitor_id, remember_visitor, visitor_contact_id


# Anonymous visitors post here from cached or embedded pages; the submission uses no session
# privilege, so CSRF protection would only turn stale pages into errors. Abuse is handled by
# the rate limit, the honeypot and the size limit.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def hosted_form(request: HttpRequest, slug: str) -> HttpResponse:
    form = form_by_slug(slug)
    if form is None:
        raise Http404("No such form.")
    context = {
        "form": form,
        "questions": list(form.fields.all()),
        "honeypot": HONEYPOT_FIELD,
        "values": {},
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "intake/public/form.html", context)
    if body_too_large(request):
        return render(
            request,
            "intake/public/message.html",
            {"form": form, "message": "That submission is too large."},
            status=413,
        )
    if over_rate_limit(request, f"form:{form.pk}"):
        response = render(
            request,
            "intake/public/message.html",
            {
                "form": form,
                "message": "Too many submissions from your address. "
                "Please wait a minute and try again.",
            },
            status=429,
        )
        response["Retry-After"] = "60"
        return response
    raw = {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"}
    try:
        submission = form_submit(
            form=form,
            raw=raw,
            channel="page",
            visitor_contact_id=visitor_contact_id(request),
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            anonymous_visitor_id=anonymous_visitor_id(request),
        )
    except SubmissionRejected as rejected:
        context.update(values=raw, errors=rejected.errors)
        return render(request, "intake/public/form.html", context, status=422)
    response = (
        redirect(form.redirect_url)
        if form.redirect_url
        else render(
            request,
            "intake/public/message.html",
            {"form": form, "message": form.thank_you_message, "thanks": True},
        )
    )
    if submission.contact_id and submission.contact_action == "created":
        # Only a visitor who just became a new contact is remembered: typing someone else's
        # email must not let a browser act as that person on later "only leads" forms.
        remember_visitor(response, submission.contact_id)
    return response
