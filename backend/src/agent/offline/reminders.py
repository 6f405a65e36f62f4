"""Asks to be reminded, which no tool can do: found, cut off the part the tools can do, and
declined once in the reply."""

from __future__ import annotations

import re

_NOTIFY_ME = r"(?:remind|notify|ping|alert|nudge|warn) me\b"
_ALARM = r"(?:reminder|alarm|alert|notification)s?\b"
# "add an alert banner" is a task: only "add a reminder" asks for one.
_SET_ALARM = (
    rf"(?:(?:set(?: up)?|create|schedule|give me)(?: me)? (?:an? )?{_ALARM}"
    r"|(?:add|make|put)(?: me)? (?:an? )?reminders?\b)"
)
_OFFSET = (
    r"\b(?:(?:\d+|an?|one|two|three|four|five|ten|fifteen|twenty|thirty|forty-five|few|couple of)"
    r" (?:minutes?|mins?|hours?|hrs?|days?|weeks?)|(?:the )?(?:day|night|morning|evening|week))"
    r" (?:before|ahead|earlier|prior)\b|\b(?:beforehand|in advance|ahead of time)\b"
)
# A request to be reminded, after the part the tools can do: "…, and remind me an hour before",
# "… and set a reminder", "… with a reminder the day before".
_REMINDER_CLAUSE = re.compile(
    rf"(?:\s*[,;]\s*(?:(?:and|then|also|plus) )?|\s+(?:and|then|also|plus) )"
    rf"(?:please )?(?:{_NOTIFY_ME}|{_SET_ALARM}|with (?:an? )?{_ALARM}).*$"
    rf"|\s+(?:{_NOTIFY_ME}|with (?:an? )?{_ALARM}).*$",
    re.IGNORECASE,
)
# Only a reminder: "remind me an hour before the dentist", "set a reminder for the dentist".
_REMINDER_ONLY = re.compile(
    rf"{_NOTIFY_ME}.*(?:{_OFFSET}).*|{_SET_ALARM}(?! (?:(?:for|on) .+ )?to ).*", re.IGNORECASE
)
# "set a reminder to call mom at 5pm" is a task to call mom at 5pm.
_SET_ALARM_TO = re.compile(rf"{_SET_ALARM} (?:(?:for|on) (?P<when>.+?) )?to (?P<rest>.+)",
                           re.IGNORECASE)  # fmt: skip


def asks_only_reminder(message: str) -> bool:
    """Only a reminder: "remind me an hour before the dentist", "set a reminder for it"."""
    return _REMINDER_ONLY.fullmatch(message) is not None


def without_reminder(message: str) -> tuple[str, bool]:
    """The request without its ask to be reminded, and whether there was one."""
    alarm_to = _SET_ALARM_TO.fullmatch(message)
    if alarm_to:
        when = f" {alarm_to['when']}" if alarm_to["when"] else ""
        return f"remind me to {alarm_to['rest']}{when}", True
    if re.match(rf"{_NOTIFY_ME}", message, re.IGNORECASE):
        return message, True  # "remind me to call mom friday": a task, and no reminder
    clause = _REMINDER_CLAUSE.search(message)
    if clause is None:
        return message, False
    return message[: clause.start()].strip(), True
