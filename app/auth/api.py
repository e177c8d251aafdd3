"""Account endpoints for API clients."""

from apiflask import APIBlueprint, Schema
from apiflask.fields import Email, Integer, Nested, String
from apiflask.validators import Length, OneOf

from app.auth import services
from app.extensions import db, limiter

bp = APIBlueprint("auth_api", __name__, url_prefix="/api/v1/auth", tag="Accounts")


class RegisterIn(Schema):
    email = Email(required=True, validate=Length(max=254))
    password = String(required=True, validate=Length(min=services.MIN_PASSWORD, max=services.MAX_PASSWORD))
    display_name = String(required=True, validate=Length(min=1, max=80))
    role = String(load_default="resident", validate=OneOf(["resident", "merchant"]))


class UserOut(Schema):
    id = Integer()
    email = String()
    display_name = String()
    role = String()


class TokenIn(Schema):
    email = String(required=True, validate=Length(max=254))
    password = String(required=True, validate=Length(max=services.MAX_PASSWORD))


class TokenUser(UserOut):
    """The account a token belongs to."""
    # Its own class: the spec is built shortest path first, and a nested UserOut met before
    # /register's own UserOut would be registered twice (apispec warns; tests turn that into a 500).


class TokenOut(Schema):
    token = String()
    token_type = String()
    user = Nested(TokenUser)


@bp.post("/register")
@bp.input(RegisterIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@bp.doc(responses={409: "email_taken"})
@limiter.limit("20 per minute")
def register(body):
    """Create a resident or merchant account."""
    user = services.register_user(body["email"], body["password"], body["display_name"], body["role"])
    db.session.commit()
    return user


@bp.post("/tokens")
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut, status_code=201)
@bp.doc(responses={401: "invalid_credentials"})
@limiter.limit("30 per minute")
def create_token(body):
    """Exchange e-mail and password for a bearer token."""
    user = services.authenticate(body["email"], body["password"])
    token = services.issue_token(user)
    db.session.commit()
    return {"token": token, "token_type": "Bearer", "user": user}
