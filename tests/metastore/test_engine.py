"""Metadata URLs: accepted forms and password masking for messages."""

from __future__ import annotations

import pytest

from sqlgate.metastore.engine import MetadataUrlError, mask_password, plain_postgres_url, scrub_secret


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://admin:s3cret@db:5432/meta", "postgresql://admin:***@db:5432/meta"),
        ("postgresql://admin:p%40ss@db/meta", "postgresql://admin:***@db/meta"),
        ("postgresql://admin@db/meta", "postgresql://admin@db/meta"),
        ("postgresql://postgres:@/meta?host=/tmp/pg", "postgresql://postgres:@/meta?host=/tmp/pg"),
        (
            "postgresql://db/meta?user=a&password=s3cret&sslmode=require",
            "postgresql://db/meta?user=a&password=***&sslmode=require",
        ),
        ("postgresql://u:pw@[::1]:5432/meta", "postgresql://u:***@[::1]:5432/meta"),
    ],
)
def test_mask_password(url: str, masked: str) -> None:
    assert mask_password(url) == masked


def test_mask_password_of_an_unparseable_url_still_hides_it() -> None:
    assert "s3cret" not in mask_password("postgresql://u:s3cret@[bad/meta")


def test_scrub_secret_removes_the_password_anywhere() -> None:
    url = "postgresql://admin:s3cret@db/meta"
    message = "could not connect with password s3cret to postgresql://other:x@h/d"
    assert scrub_secret(message, url) == "could not connect with password *** to postgresql://other:***@h/d"


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("postgres://u@h/d", "postgresql://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql://u@h/d"),
        (" postgresql://u@/d?host=/tmp/x ", "postgresql://u@/d?host=/tmp/x"),
    ],
)
def test_plain_postgres_url(url: str, plain: str) -> None:
    assert plain_postgres_url(url) == plain


def test_other_schemes_are_refused_with_the_password_masked() -> None:
    with pytest.raises(
        MetadataUrlError, match=r"must start with postgresql:// \(got 'mysql://root:\*\*\*@h/d'\)"
    ):
        plain_postgres_url("mysql://root:pw@h/d")
