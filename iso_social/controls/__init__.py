"""Control types: the registry of built-ins and third-party plug-ins.

A new built-in type is one module named after its `type_name` and one line in
`BUILTIN_CONTROL_TYPES`. Third parties register classes under the `iso_social.controls`
entry-point group.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from iso_social.controls._detectors import mask_personal_data, masked_start
from iso_social.controls.auto_reply_followup import AutoReplyFollowup
from iso_social.controls.base import ControlInput, ControlType
from iso_social.controls.escalation_path import EscalationPath
from iso_social.controls.first_response_time import FirstResponseTime
from iso_social.controls.next_response_time import NextResponseTime
from iso_social.controls.phone_service_level import PhoneServiceLevel
from iso_social.controls.public_to_private_handoff import PublicToPrivateHandoff
from iso_social.controls.repeat_contact import RepeatContact
from iso_social.controls.resolution_time import ResolutionTime
from iso_social.controls.response_rate import ResponseRate
from iso_social.controls.sensitive_data_exposure import SensitiveDataExposure

BUILTIN_CONTROL_TYPES: tuple[type[ControlType], ...] = (
    FirstResponseTime,
    NextResponseTime,
    ResolutionTime,
    ResponseRate,
    AutoReplyFollowup,
    SensitiveDataExposure,
    PublicToPrivateHandoff,
    EscalationPath,
    RepeatContact,
    PhoneServiceLevel,
)

__all__ = [
    "BUILTIN_CONTROL_TYPES",
    "ControlInput",
    "ControlType",
    "control_type",
    "control_types",
    "mask_personal_data",
    "masked_start",
]


@cache
def _builtins() -> dict[str, ControlType]:
    return {cls.type_name: cls() for cls in BUILTIN_CONTROL_TYPES}


@cache
def control_types() -> dict[str, ControlType]:
    """Every installed control type by name: built-ins first, then entry-point plug-ins."""
    types = dict(_builtins())
    for entry in entry_points(group="iso_social.controls"):
        plugin = entry.load()()
        types.setdefault(plugin.type_name, plugin)
    return types


def control_type(name: str) -> ControlType | None:
    """The installed control type named `name`, or None: a built-in without looking for
    plug-ins (which reads every installed distribution's entry points, 5-8 ms of a policy
    validation), as built-ins win over a plug-in of the same name anyway."""
    found = _builtins().get(name)
    return found if found is not None else control_types().get(name)
