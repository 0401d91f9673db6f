"""The work on work items: claims, saves, status moves, locks, QA routing, history.

Public, by module (callers import the module or these names from it):

- ``claims``: ``claim_for_operator``, ``claim_for_qa``, ``claim_operator_programme``
- ``save``: ``save_crops``, ``delete_rendition``
- ``status_updates``: ``update_status``
- ``locks``: ``release_expired_locks``, ``release_user_locks``
- ``renewal``: ``renew_lock``
- ``history``: ``programme_history``
- ``programmes``: ``claimed_programme``, ``build_programme``, ``programme_after_write``
  (the API's answers)
- ``actors``: ``require_active_user``, ``stages_of``
- ``qa_routing``: ``qa_route``, ``route_for``
- ``states``: the states, every allowed move and ``apply_move`` (the only code that
  moves a row)

Private to the package: ``claim_queue`` (the claims' SQL), ``rendition_rows``,
``finishing``, ``comments``, ``sources``, ``cache``, ``audit``.

This file imports nothing on purpose: the schema's models read ``states`` (the one
definition of the state numbers), and importing them must not load the claims.
"""

__all__ = [
    "actors",
    "claims",
    "history",
    "locks",
    "programmes",
    "qa_routing",
    "renewal",
    "save",
    "states",
    "status_updates",
]
