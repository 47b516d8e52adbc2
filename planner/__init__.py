"""Point-to-point return-to-work charter planner (点对点返岗包车).

Data flows one way: scenario file -> loaded and validated tables -> problem data
-> solver -> plan directory -> checker, documents, app.
"""

__version__ = "0.1.0"
