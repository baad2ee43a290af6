"""Vendor API clients for Energy Hub.

Pure aiohttp, no Home Assistant imports: each client takes an ``aiohttp.ClientSession`` and a
base URL, returns typed models and raises the errors in :mod:`.errors`.
"""
