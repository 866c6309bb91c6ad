# SPDX-License-Identifier: MIT
"""What runs at pack time, and never inside a served app.

    build.py        `gale pack` and the build's packer: host + library + app
    payload.py      the payload writer: zip, code archive, manifest, trailer
    deps.py         the app's dependencies: requirements, locks, wheels
    pe.py           reading and patching Windows PE files (extension imports)
    peresources.py  PE resources; peversion.py, icons.py: the version and icon
    msi.py          the MSI (wixl)
    sbom.py         the CycloneDX SBOM (also `gale sbom`)
    hotset.py       the modules a start needs, measured for the code archive

The modules that run inside the executable are gale's other modules.
"""
