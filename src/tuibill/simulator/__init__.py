"""Simulated counterparts for demos and tests: a caisse that receives lots and answers ARLs.

``tuibill simulate caisse`` runs it; ``caisse`` holds the simulator and its SMTP server,
``scenarios`` what it answers (answer kinds, responders, scripts).
"""
