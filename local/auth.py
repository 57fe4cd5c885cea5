"""A local token issuer, and the check the HTTP API's JWT authorizer makes on AWS:
RS256 signature, issuer, audience, expiry."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://streamforge.local/issuer"
AUDIENCE = "streamforge-web"
TOKEN_SECONDS = 3600


class InvalidToken(Exception):
    pass


def load_or_create_rsa_key(path: Path) -> rsa.RSAPrivateKey:
    """An RSA key kept in the offline stack's state folder (made on first use)."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_key_pem(key).encode())
    path.chmod(0o600)
    return key


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class LocalIssuer:
    def __init__(self, key_path: Path):
        self._key = load_or_create_rsa_key(key_path)

    def issue(self, user: str, *, seconds: int = TOKEN_SECONDS, audience: str = AUDIENCE) -> str:
        now = int(time.time())
        claims = {
            "sub": user,
            "username": user,
            "iss": ISSUER,
            "aud": audience,
            "iat": now,
            "exp": now + seconds,
            "token_use": "id",
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "local"})

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return claims
