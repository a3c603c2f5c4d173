"""Measuring tools: parameter and FLOP counts, operator counts, speed and memory of a model,
throughput of the data path and of each storage mode.

They sit above data, models and engine because they measure those (the data benchmark times
the engine's own loader), and nothing below imports them.
"""
