"""The API's routes, one Powertools Router per resource; lambdas/api/routes.py composes them."""
