"""Hearth check-ins: schedules, check-ins and the deadlines that notice a missed one."""
