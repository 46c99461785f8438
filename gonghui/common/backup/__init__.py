"""Backup and restore of the whole workbench, portable between SQLite and PostgreSQL.

A backup is one zip file (:mod:`.format`): ``manifest.json`` (format version, when,
which engine, the applied migrations per app, the tables in dependency order with their
columns, row counts and SHA-256 checksums), one JSON-lines file per table under
``data/`` holding every column's stored value, and the uploaded files of the data
folder under ``media/``.

:mod:`.dump` reads every table in one consistent snapshot while the server runs;
:mod:`.load` checks a backup (checksums, schema version, that the encryption key in
force reads the personal numbers) and writes it into an empty database in one
transaction. Values are read and written as stored, below the models: 身份证号 and
手机号 stay the Fernet tokens they are in the database, never decrypted into the file.
"""
