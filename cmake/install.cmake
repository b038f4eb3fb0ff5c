# Install layout (`cmake --install`) and the Debian package (`cpack -G DEB`), see README "Install".
# Paths follow GNUInstallDirs, so -DCMAKE_INSTALL_PREFIX=/usr gives the package's /usr/bin/pipeline.
include(GNUInstallDirs)

set(PIPELINE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd service and timer go, relative to the install prefix")

install(TARGETS pipeline RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Debian ships man pages gzipped (-n: no name or time stamp, so the package is reproducible).
set(PIPELINE_MAN_GZ ${CMAKE_BINARY_DIR}/pipeline.1.gz)
add_custom_command(OUTPUT ${PIPELINE_MAN_GZ}
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/docs/pipeline.1 > ${PIPELINE_MAN_GZ}
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/pipeline.1 VERBATIM)
add_custom_target(pipeline_man ALL DEPENDS ${PIPELINE_MAN_GZ})
install(FILES ${PIPELINE_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES scripts/completion/pipeline.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME pipeline)
install(FILES pipeline.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME pipeline.yaml.example)
install(FILES README.md docs/scale.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES scripts/examples/crontab scripts/examples/kubernetes-cronjob.yaml scripts/examples/airflow_dag.py
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The examples name /usr/local; the installed units name where this install puts the binary and the docs.
foreach(unit pipeline-harvest.service pipeline-harvest.timer)
  file(READ ${PROJECT_SOURCE_DIR}/scripts/examples/${unit} text)
  string(REPLACE "/usr/local/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
  string(REPLACE "/usr/local/share/doc/pipeline/" "${CMAKE_INSTALL_FULL_DOCDIR}/" text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/systemd/${unit} "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit} DESTINATION ${PIPELINE_SYSTEMD_UNIT_DIR})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/scripts/examples/pipeline-harvest.service
  ${PROJECT_SOURCE_DIR}/scripts/examples/pipeline-harvest.timer)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pipeline)
set(CPACK_PACKAGE_VENDOR "pipeline")
set(CPACK_PACKAGE_CONTACT "pipeline maintainers <pipeline@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "harvests the MapleStory Open API into dated snapshot files")
set(CPACK_PACKAGE_DESCRIPTION
    "pipeline fetches rankings, character ids, character basics and item equipment from the rate-limited\n"
    "MapleStory Open API into dated, atomically published snapshot files on a local folder or S3, with a\n"
    "run ledger, graceful stop and resume, verify and gc. Ships a systemd service and timer (not enabled).")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime dependencies come from the libraries the binary links (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://openapi.nexon.com/")
include(CPack)
