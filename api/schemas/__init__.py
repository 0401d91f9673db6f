"""Response models: the ``Data`` of each resource's answers, one module per resource
(named as its routes' module), for ``Envelope[...]`` in the routes' ``response_model``.

They describe the answers exactly: every field the route's dict holds, named and
cased as the contract says, nullable where the column (or the code) may give null.
A field left out here would be dropped from the answer by FastAPI; a field the route
does not give would fail the answer (500). tests/api/test_response_models.py holds
each route's answer to what the route returned before the model saw it.
"""
