"""Entry points that run inside Excel: worksheet functions (``udfs``) and ribbon macros
(``ribbon``). They are kept thin: each one validates, calls the library, and turns errors into
one sentence for the user."""
