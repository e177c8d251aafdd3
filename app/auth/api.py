"""Account endpoints for API clients."""

from apiflask import APIBlueprint, Schema
from apiflask.fields import Email, Integer, Nested, String
from apiflask.validators import Length, OneOf
from flask_babel import gettext as _

from app.auth import services
from app.auth.passwords import MAX_PASSWORD, MIN_PASSWORD
from app.auth.security import actor, api_auth
from app.errors import Unauthenticated
from app.extensions import db, limiter
from app.i18n import current as current_locale

bp = APIBlueprint("auth_api", __name__, url_prefix="/api/v1/auth", tag="Accounts")


class RegisterIn(Schema):
    email = Email(required=True, validate=Length(max=254))
    password = String(required=True, validate=Length(min=MIN_PASSWORD, max=MAX_PASSWORD),
                      metadata={"description": "Not a common password, nor built from the e-mail or the name."})
    display_name = String(required=True, validate=Length(min=1, max=80))
    role = String(load_default="resident", validate=OneOf(["resident", "merchant"]))


class RegisterOut(Schema):
    email = String(metadata={"description": "The address the message went to."})
    message = String()


class TokenIn(Schema):
    email = String(required=True, validate=Length(max=254))
    password = String(required=True, validate=Length(max=MAX_PASSWORD))


class TokenUser(Schema):
    """The account a token belongs to."""

    id = Integer()
    email = String()
    display_name = String()
    role = String()


class TokenOut(Schema):
    token = String()
    token_type = String()
    user = Nested(TokenUser)


@bp.post("/register")
@bp.input(RegisterIn, arg_name="body")
@bp.output(RegisterOut, status_code=201)
@limiter.limit("20 per minute")
def register(body):
    """Create a resident or merchant account.

    The answer is the same whether or not the address already has an account (its owner gets an e-mail
    saying someone tried), so it reveals no account. A new account can log in at once.
    """
    services.register_user(body["email"], body["password"], body["display_name"], body["role"],
                           locale=current_locale())
    db.session.commit()
    return {"email": services.normalise_email(body["email"]),
            "message": _("Check your e-mail: we sent a message to this address. If the account is new, "
                         "it is ready: get a token with POST /api/v1/auth/tokens.")}


@bp.post("/tokens")
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut, status_code=201)
@bp.doc(responses={401: "invalid_credentials"})
@limiter.limit("30 per minute")
def create_token(body):
    """Exchange e-mail and password for a bearer token.

    After several wrong passwords in a row an account is locked for a while, whatever the address they
    came from; a locked or unknown account is answered like a wrong password.
    """
    try:
        user = services.authenticate(body["email"], body["password"])
    except Unauthenticated:
        db.session.commit()  # the wrong password counts toward the account's lock
        raise
    token = services.issue_token(user)
    db.session.commit()
    return {"token": token, "token_type": "Bearer", "user": user}


@bp.post("/logout-everywhere")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
def logout_everywhere():
    """End every login of the caller: browser sessions, remember-me cookies and API tokens, this one too."""
    services.log_out_everywhere(actor())
    db.session.commit()
    return ""
