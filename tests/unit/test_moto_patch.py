"""A MotoPatch replaces its attributes together, puts back exactly what was there (deleting
an attribute the class had only inherited), and restores the state it found."""

from __future__ import annotations

from local.moto_patch import MotoPatch


class Base:
    def inherited(self) -> str:
        return "base"


class Owner(Base):
    def own(self) -> str:
        return "own"


def _own(self: Owner) -> str:
    return "patched own"


def _inherited(self: Owner) -> str:
    return "patched inherited"


def test_install_replaces_every_attribute_and_uninstall_puts_back_what_was_there() -> None:
    forgotten: list[str] = []
    patch = MotoPatch(
        [(Owner, "own", _own), (Owner, "inherited", _inherited)],
        on_uninstall=lambda: forgotten.append("cleared"),
    )
    assert not patch.installed()

    patch.install()
    patch.install()  # idempotent
    assert patch.installed()
    assert (Owner().own(), Owner().inherited()) == ("patched own", "patched inherited")

    patch.uninstall()
    assert not patch.installed()
    assert (Owner().own(), Owner().inherited()) == ("own", "base")
    assert "inherited" not in vars(Owner)  # inherited again, not copied onto the class
    assert forgotten == ["cleared"]


def test_state_holds_for_the_block_then_is_as_it_was() -> None:
    patch = MotoPatch([(Owner, "own", _own)])
    with patch.state(installed=True):
        assert Owner().own() == "patched own"
        with patch.state(installed=False):
            assert Owner().own() == "own"
        assert patch.installed()
    assert not patch.installed()
