# SPDX-License-Identifier: MIT
"""Finds the app's entry point: ``module:attribute`` (as uvicorn does) or a script.

Every failure becomes one line with exit code APP that says what went wrong
in the app's terms (missing module, syntax error and where, the exception an
import raised); the traceback is kept as the cause for --debug.
"""

import importlib
import importlib.util
import inspect

from gale import config
from gale.errors import GaleError


def import_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise GaleError("APP", f"cannot find app module {name!r}") from exc
        raise GaleError("APP", f"importing {name!r} failed: {exc}") from exc
    except SyntaxError as exc:
        raise GaleError("APP", f"syntax error in {exc.filename}, line {exc.lineno}: "
                               f"{exc.msg}") from exc
    except GaleError:  # Gale's own verdict on the import, such as a damaged extension
        raise
    except Exception as exc:
        raise GaleError("APP", f"importing {name!r} raised {type(exc).__name__}: {exc}") from exc


def resolve(target: str):
    """(object, module) for "module:attr.sub"."""
    module_name, _, attr_path = target.partition(":")
    module = import_module(module_name)
    obj = module
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise GaleError("APP", f"{module_name!r} has no attribute {attr_path!r}") from None
    return obj, module


def origin(module) -> str:
    """Where the module says it lives (its ``__file__``)."""
    return getattr(module, "__file__", None) or getattr(module, "__name__", "?")


async def make_application(obj, target: str):
    """The tornado Application for ``app = target``: the object itself, or
    what calling it (and awaiting the result, if needed) gives."""
    import tornado.httputil
    import tornado.web

    if not isinstance(obj, tornado.web.Application):
        if not callable(obj):
            raise GaleError("APP", f"{target} is neither a tornado.web.Application nor callable")
        try:
            obj = obj()
            if inspect.isawaitable(obj):
                obj = await obj
        except GaleError:
            raise
        except Exception as exc:
            raise GaleError("APP", f"{target}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(obj, tornado.httputil.HTTPServerConnectionDelegate):
        raise GaleError("APP", f"{target} gave {type(obj).__name__}, not a tornado.web.Application")
    return obj


def main_function(target: str):
    """(callable, module) for ``main = target``."""
    fn, module = resolve(target)
    if not callable(fn):
        raise GaleError("APP", f"{target} is not callable")
    return fn, module


def script_spec(path: str):
    """(module name, spec) for ``script = path``; the script is not run."""
    name = config.script_module(path)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise GaleError("APP", f"cannot find script {path!r}: {exc}") from exc
    except Exception as exc:  # importing a parent package ran app code
        raise GaleError("APP", f"finding script {path!r} raised {type(exc).__name__}: {exc}") from exc
    if spec is None or spec.loader is None:
        raise GaleError("APP", f"cannot find script {path!r} in the app")
    return name, spec
