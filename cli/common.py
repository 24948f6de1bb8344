"""What every `pactkb` command shares: the Typer app, option types read from Settings, errors and JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from pactkb.settings import Settings


def shown_default(name: str) -> str:
    """A setting's default as the help shows it (paths relative to the working directory as ./data)."""
    value = Settings.model_fields[name].default
    if isinstance(value, Path) and not value.is_absolute():
        return f"./{value}"
    return "none" if value is None else str(value)


def setting(name: str, *decls: str, help: str | None = None) -> Any:  # noqa: A002 - typer's own keyword
    """An option for a Settings field: its help names the environment variable and the default (one source)."""
    text = help or Settings.model_fields[name].description or ""
    suffix = f"[env var: PACTKB_{name.upper()}] [default: {shown_default(name)}]"
    return typer.Option(*decls, help=escape(f"{text} {suffix}"))


_CommandBase: type = TyperCommand if TYPE_CHECKING else object  # the mixin's super() is a Typer command


class PlainFlags(_CommandBase):
    """Flags take no value: the help shows no <bool> type for them (--help included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Blank the type of every flag."""
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.metavar = ""

    def get_help_option(self, ctx: Any) -> Any:
        """The --help flag, without a type."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class Group(PlainFlags, TyperGroup):
    """The command groups (pactkb, pactkb keys)."""


class Command(PlainFlags, TyperCommand):
    """A command whose usage line reads naturally (PATH..., not {paths}...) and whose flags show no <bool>."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """[OPTIONS] then each argument as NAME, NAME... (repeatable) or [NAME] (optional)."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = (param.metavar or param.name or "").upper() + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces


DataOpt = Annotated[Path | None, setting("data", "--data")]
ModelOpt = Annotated[str | None, setting("model", "--model", help="Sentence-transformers model name or path.")]
EncoderOpt = Annotated[str | None, setting("encoder", "--encoder", help="openvino (default), torch or onnx.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def make_settings(**overrides: Any) -> Settings:
    """Settings from the environment with CLI flags (those given) on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except Exception as exc:
        fail(f"invalid setting: {exc}", code=2)
        raise  # unreachable


def fail(message: str, code: int = 1) -> None:
    """Print an error to stderr and exit."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    """Print JSON to stdout."""
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=None, default=str))


def open_kb(settings: Settings):  # noqa: ANN201
    """A knowledge base, turning store errors into a clean exit."""
    from pactkb.index.kb import KnowledgeBase
    from pactkb.index.store import StoreError

    try:
        return KnowledgeBase(settings)
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open data directory {settings.data}: {exc}")
